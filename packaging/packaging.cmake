# Installation layout beyond the programs (man pages, shell completion,
# systemd units, docs) and CPack's .deb. Included by the top-level
# CMakeLists.txt. For a package, configure with -DCMAKE_INSTALL_PREFIX=/usr:
# the dashboard's web dir (QC_WEB_DIR_INSTALL) and the units' ExecStart are
# compiled/configured from CMAKE_INSTALL_PREFIX, and cpack refuses a .deb
# whose prefix would not match them.
include(GNUInstallDirs)

set(QC_PACKAGING_DIR ${CMAKE_SOURCE_DIR}/packaging)
set(QC_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
  "Where systemd units are installed (relative to the install prefix)")
set(QC_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING
  "Where the sysusers.d file is installed (relative to the install prefix)")

# ---- man pages: hand-written roff in man/, the version filled in, gzipped
# (-n: no name or time stamp, so the result is reproducible).
find_program(QC_GZIP gzip)
set(qc_man_outputs)
foreach(page queuectl.1 queuectl-dashboard.1 queuectl-broker.8 queuectl-worker.8)
  string(REGEX MATCH "[0-9]$" section ${page})
  configure_file(${CMAKE_SOURCE_DIR}/man/${page} ${CMAKE_BINARY_DIR}/man/${page} @ONLY)
  if(QC_GZIP)
    add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/man/${page}.gz
      COMMAND ${QC_GZIP} -9 -n -f -k ${page}
      WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/man
      DEPENDS ${CMAKE_BINARY_DIR}/man/${page}
      COMMENT "Compressing man page ${page}" VERBATIM)
    list(APPEND qc_man_outputs ${CMAKE_BINARY_DIR}/man/${page}.gz)
    install(FILES ${CMAKE_BINARY_DIR}/man/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  else()
    install(FILES ${CMAKE_BINARY_DIR}/man/${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
  endif()
endforeach()
add_custom_target(qc_man_pages ALL DEPENDS ${qc_man_outputs})

# ---- shell completion
install(FILES ${CMAKE_SOURCE_DIR}/completion/queuectl.bash
  DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions RENAME queuectl)
install(FILES ${CMAKE_SOURCE_DIR}/completion/_queuectl
  DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/vendor-completions)

# ---- systemd units (ExecStart from the install prefix) and their user
foreach(unit queuectl-broker.service queuectl-worker@.service)
  configure_file(${QC_PACKAGING_DIR}/systemd/${unit}.in ${CMAKE_BINARY_DIR}/packaging/${unit} @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/packaging/${unit} DESTINATION ${QC_SYSTEMD_UNIT_DIR})
endforeach()
install(FILES ${QC_PACKAGING_DIR}/systemd/queuectl.sysusers
  DESTINATION ${QC_SYSUSERS_DIR} RENAME queuectl.conf)

# ---- documentation
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/DESIGN.md
  ${CMAKE_SOURCE_DIR}/docs/PROTOCOL.md ${CMAKE_SOURCE_DIR}/docs/API.md
  DESTINATION ${CMAKE_INSTALL_DOCDIR})

# ---- CPack: a .deb installing under /usr
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME queuectl)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "queuectl team")
set(CPACK_PACKAGE_CONTACT "queuectl team <team@queuectl.dev>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "durable background job queue for shell commands")
# Wrapped by hand: the control file's extended description keeps lines as given.
string(CONCAT CPACK_PACKAGE_DESCRIPTION
  "queuectl runs shell commands as background jobs, with retries and\n"
  "exponential backoff, delayed jobs, priorities, timeouts and a dead-letter\n"
  "queue. The broker (queuectl-broker) keeps every job in SQLite and hands\n"
  "jobs to workers (queuectl-worker) over ZeroMQ; the queuectl command adds,\n"
  "inspects and cancels jobs; queuectl-dashboard serves a web dashboard.\n"
  "\n"
  "Includes systemd units (queuectl-broker.service and the template\n"
  "queuectl-worker@.service), man pages, bash and zsh completion, and the\n"
  "libqueuectl client library.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON) # libqueuectl.so.0
find_program(QC_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(QC_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libc6, libzmq5, libczmq4, libsqlite3-0, libcjson1, libmicrohttpd12")
endif()
# Maintainer scripts: create the queuectl user; stop and disable the services
# on removal.
# Ours replace CPack's default postinst/postrm, so the ldconfig call for
# libqueuectl is a trigger instead.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${QC_PACKAGING_DIR}/debian/postinst ${QC_PACKAGING_DIR}/debian/prerm
  ${QC_PACKAGING_DIR}/debian/postrm ${QC_PACKAGING_DIR}/debian/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Checked by packaging/cpack_config.cmake when cpack runs.
set(CPACK_QC_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PROJECT_CONFIG_FILE ${QC_PACKAGING_DIR}/cpack_config.cmake)

set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/node_modules/" "__pycache__")
include(CPack)
