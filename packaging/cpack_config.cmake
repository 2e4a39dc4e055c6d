# CPACK_PROJECT_CONFIG_FILE: read by cpack for each generator. A .deb installs
# under CPACK_PACKAGING_INSTALL_PREFIX (/usr), but the dashboard's web dir and
# the systemd units' ExecStart were set from CMAKE_INSTALL_PREFIX when the
# build was configured: refuse a package in which they would not match.
if(CPACK_GENERATOR STREQUAL "DEB" AND
   NOT CPACK_QC_INSTALL_PREFIX STREQUAL CPACK_PACKAGING_INSTALL_PREFIX)
  message(FATAL_ERROR
    "queuectl: this build was configured with CMAKE_INSTALL_PREFIX=${CPACK_QC_INSTALL_PREFIX}, "
    "but the .deb installs under ${CPACK_PACKAGING_INSTALL_PREFIX}. Configure a separate build "
    "with -DCMAKE_INSTALL_PREFIX=${CPACK_PACKAGING_INSTALL_PREFIX} to make the package.")
endif()
