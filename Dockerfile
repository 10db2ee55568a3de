# aisnode: one image for both roles (AIS_ROLE=gateway|target), built from this checkout.
#   docker build -t aistore-c/aisnode .
#   docker run -e AIS_ROLE=gateway -e AIS_HOSTNAME=gw --hostname gw -p 8080:8080 aistore-c/aisnode
# The entrypoint is scripts/node.sh, the per-node start logic `make deploy` runs too: it writes
# config.json from the AIS_* variables documented at its top and execs aisnode (PID 1; aisnode
# exits cleanly on SIGTERM). deploy/compose.yaml and deploy/k8s/ set those variables.

# ---- build: the -dev packages of scripts/install-deps.sh, then cmake ----
FROM debian:12-slim AS build
RUN apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        build-essential cmake pkg-config protobuf-c-compiler \
        libnng-dev libprotobuf-c-dev libmicrohttpd-dev libxxhash-dev libisal-dev libcmocka-dev \
        libcurl4-openssl-dev libssl-dev libarchive-dev libmsgpack-dev libjansson-dev \
        libexpat1-dev && \
    rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release >/dev/null && \
    cmake --build /build -j"$(nproc)" --target aisnode ais && \
    install -D -m 0755 /build/deploy/aisnode /out/usr/local/bin/aisnode && \
    install -D -m 0755 /build/cli/ais /out/usr/local/bin/ais && \
    install -D -m 0644 /build/cli/ais-completion.bash \
        /out/usr/share/bash-completion/completions/ais && \
    install -D -m 0755 scripts/node.sh /out/usr/local/bin/node.sh

# ---- runtime: shared libraries only, plus curl (HEALTHCHECK, lifecycle hooks) ----
FROM debian:12-slim
RUN apt-get update -qq && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        libnng1 libprotobuf-c1 libmicrohttpd12 libxxhash0 libisal2 \
        libcurl4 libssl3 libarchive13 libmsgpackc2 libjansson4 libexpat1 \
        ca-certificates curl && \
    rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /
# Fail the build, not the first start, when a runtime library is missing.
RUN ! ldd /usr/local/bin/aisnode /usr/local/bin/ais | grep 'not found'
# A fixed uid/gid so Kubernetes' runAsUser/fsGroup (deploy/k8s) can name it.
RUN groupadd --system --gid 10001 ais && \
    useradd --system --uid 10001 --gid ais --home-dir /var/lib/ais --shell /usr/sbin/nologin ais && \
    mkdir -p /var/lib/ais/promote /ais/mp1 /ais/mp2 && \
    chown -R ais:ais /var/lib/ais /ais
USER ais
WORKDIR /var/lib/ais
# No VOLUME: gateways need no mountpaths. A named volume mounted on one of these dirs starts as
# a copy of it, so it is the ais user's too (compose); Kubernetes sets fsGroup.
ENV AIS_NODE_DIR=/var/lib/ais AIS_PORT=8080 AIS_MOUNTPATHS=/ais/mp1,/ais/mp2 \
    AIS_PROMOTE_ROOT=/var/lib/ais/promote
EXPOSE 8080 9080 10080
# The node binds AIS_HOSTNAME (not 127.0.0.1), so ask it there; 503 until it joined the cluster.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD curl -fsS --max-time 4 "http://${AIS_HOSTNAME:-127.0.0.1}:${AIS_PORT:-8080}/v1/health" || exit 1
ENTRYPOINT ["/usr/local/bin/node.sh"]
CMD ["run"]
