# queuectl in a container. Build: docker build -t queuectl .
#
# The default command is the broker, with its data in the volume
# /var/lib/queuectl (QUEUECTL_HOME). Workers and the CLI reach it through the
# ipc sockets in that volume:
#   docker run -d --name qc-broker -v qc-data:/var/lib/queuectl queuectl
#   docker run -d --init --volumes-from qc-broker queuectl queuectl-worker --concurrency 4
#   docker exec qc-broker queuectl enqueue echo hello
#   docker exec qc-broker queuectl status
# (--init for workers: something must reap what jobs leave behind.)

# ---- build stage: compile and install into /stage
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc libc6-dev cmake ninja-build pkg-config \
      libzmq3-dev libczmq-dev libsodium-dev libsqlite3-dev libcjson-dev libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF \
 && cmake --build /build \
 && DESTDIR=/stage cmake --install /build --strip

# ---- runtime stage: the programs, the dashboard's page, the runtime libraries
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libzmq5 libczmq4 libsodium23 libsqlite3-0 libcjson1 libmicrohttpd12 libpq5 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --home-dir /var/lib/queuectl --shell /usr/sbin/nologin \
      queuectl \
 && install -d -m 0700 -o queuectl -g queuectl /var/lib/queuectl
COPY --from=build /stage/usr/bin/ /usr/bin/
# libqueuectl and queuectl/queuectl-pg.so (the PostgreSQL store, loaded for
# a postgresql:// database only)
COPY --from=build /stage/usr/lib/ /usr/lib/
COPY --from=build /stage/usr/share/queuectl/ /usr/share/queuectl/
ENV QUEUECTL_HOME=/var/lib/queuectl
VOLUME /var/lib/queuectl
USER queuectl
# SIGTERM (docker stop) is a clean stop for the broker and a graceful one
# for workers: give workers time with `docker stop -t 330`.
STOPSIGNAL SIGTERM
CMD ["queuectl-broker"]
