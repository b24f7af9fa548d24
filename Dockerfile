# kubeharden's container image, for those who build with Docker or BuildKit:
#
#   docker build -t kubeharden:0.1.0 .
#
# The result holds what `make image` puts in build/image (the same script assembles the root
# filesystem in both): the binary, the shared libraries it links and loads, the CA bundle,
# passwd/group for the non-root user 65532, /tmp, and one dpkg status file per Debian package
# a file came from. No shell, no package manager: the final stage starts from scratch, so there is
# no base image to trust or to update beyond the build stage's.
#
# The build stage is Debian 12 pinned by the digest of its multi-platform index. To move it to a
# newer point release, look the digest up and change it in a reviewed commit:
#
#   skopeo inspect --raw docker://docker.io/library/debian:12-slim | sha256sum
#
# (the digest of the raw index is the one to pin; `skopeo inspect --format '{{.Digest}}'` prints
# it too). Builds are reproducible for one digest: the layer's time stamps come from
# SOURCE_DATE_EPOCH (pass --build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)).
ARG DEBIAN_IMAGE=docker.io/library/debian:12-slim@sha256:d5d3f9c23164ea16f31852f95bd5959aad1c5e854332fe00f7b3a20fcc9f635c

FROM ${DEBIAN_IMAGE} AS build
# The build's libraries are the image's libraries: their versions are the build stage's, which
# the digest above fixes, so the packages are not pinned one by one.
# hadolint ignore=DL3008
# kubeharden ignore=dockerfile-apt-unpinned reason="versions fixed by the base image digest"
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config python3 binutils ca-certificates \
      libyaml-dev libre2-dev libfmt-dev libcli11-dev rapidjson-dev libboost-dev libssl-dev \
      libarchive-dev libisal-dev libsqlite3-dev zlib1g-dev libcurl4-openssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY src/ src/
COPY docs/ docs/
COPY scripts/ scripts/
ARG SOURCE_DATE_EPOCH=0
ARG VERSION=0.1.0
ARG REVISION=""
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DKH_TESTS=OFF \
 && cmake --build build \
 && python3 scripts/build-image.py --binary build/kubeharden --out /image --tag "${VERSION}" \
      --revision "${REVISION}" --epoch "${SOURCE_DATE_EPOCH}" --rootfs /rootfs

FROM scratch
COPY --from=build /rootfs/ /
USER 65532:65532
WORKDIR /home/nonroot
ENV HOME=/home/nonroot SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
ENTRYPOINT ["/kubeharden"]
ARG VERSION=0.1.0
ARG REVISION=""
ARG CREATED=""
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="kubeharden" \
      org.opencontainers.image.source="https://github.com/kubeharden/kubeharden" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="${LICENSES}"
