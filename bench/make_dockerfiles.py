#!/usr/bin/env python3
"""Writes a corpus of realistic Dockerfiles for `make bench`: make_dockerfiles.py DIR [COUNT].

The files are generated, not collected: the shapes of the Dockerfiles found in public
repositories (multi-stage builds for Go, Java, Node, Python, Rust and Ruby; Debian, Alpine, UBI
and SUSE bases; package installs with and without pins; long continued RUNs; heredocs; labels;
health checks; users), combined at random with a fixed seed, so every run lints the same bytes.
"""
import os
import random
import sys

BASES = ["debian:12.8-slim", "ubuntu:24.04", "alpine:3.20", "python:3.12-slim", "node:22-alpine",
         "golang:1.23", "eclipse-temurin:21-jre", "registry.access.redhat.com/ubi9/ubi-minimal:9.4",
         "opensuse/leap:15.6", "rust:1.82", "ruby:3.3-slim", "nginx", "ubuntu:latest",
         "gcr.io/distroless/static-debian12@sha256:" + "ab" * 32]

APT = ["curl", "ca-certificates", "git", "gnupg", "libpq5", "tzdata", "unzip", "jq", "openssl",
       "build-essential", "pkg-config", "libssl-dev", "locales", "procps", "netcat-openbsd"]
APK = ["curl", "ca-certificates", "git", "bash", "tini", "su-exec", "openssl", "tzdata", "libc6-compat"]
PIP = ["flask", "gunicorn", "requests", "psycopg2-binary", "django", "celery", "uvicorn", "fastapi",
       "pydantic", "boto3", "numpy", "pandas", "sqlalchemy", "redis"]
NPM = ["pm2", "typescript", "serve", "npm@10", "pnpm", "yarn"]


def pinned(rng, name, sep="=", version="1.2.3-1"):
    return name + sep + version if rng.random() < 0.5 else name


def apt_run(rng):
    pkgs = rng.sample(APT, rng.randint(2, 8))
    lines = ["RUN apt-get update \\"]
    flags = " -y" if rng.random() < 0.9 else ""
    flags += " --no-install-recommends" if rng.random() < 0.6 else ""
    lines.append("    && apt-get install%s \\" % flags)
    for p in pkgs:
        lines.append("        %s \\" % pinned(rng, p))
    if rng.random() < 0.7:
        lines.append("    && rm -rf /var/lib/apt/lists/*")
    else:
        lines.append("    && apt-get clean")
    return "\n".join(lines)


def apk_run(rng):
    pkgs = " ".join(pinned(rng, p, "=", "1.2.3-r0") for p in rng.sample(APK, rng.randint(2, 6)))
    return "RUN apk add %s%s" % ("--no-cache " if rng.random() < 0.7 else "", pkgs)


def pip_run(rng):
    pkgs = " ".join(pinned(rng, p, "==", "2.3.1") for p in rng.sample(PIP, rng.randint(1, 6)))
    if rng.random() < 0.5:
        return "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt"
    return "RUN pip install %s%s" % ("--no-cache-dir " if rng.random() < 0.6 else "", pkgs)


def heredoc_run(rng):
    return ("RUN <<EOF\nset -eux\nmkdir -p /app/data /app/logs\nchown -R 10001:10001 /app\n"
            "if [ -f /etc/os-release ]; then . /etc/os-release; echo \"$ID\"; fi\n"
            "for d in data logs; do chmod 750 /app/$d; done\nEOF")


def go_file(rng, i):
    return "\n".join([
        "# syntax=docker/dockerfile:1.7",
        "ARG GO_VERSION=1.23",
        "FROM golang:${GO_VERSION} AS build",
        "WORKDIR /src",
        "COPY go.mod go.sum ./",
        "RUN --mount=type=cache,target=/go/pkg/mod go mod download",
        "COPY . .",
        "RUN --mount=type=cache,target=/root/.cache/go-build \\",
        "    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags=\"-s -w -X main.version=%d\" \\" % i,
        "    -o /out/app ./cmd/app",
        "RUN go install golang.org/x/tools/cmd/goimports%s" % ("@v0.26.0" if rng.random() < 0.5 else ""),
        "",
        "FROM %s" % rng.choice(["gcr.io/distroless/static-debian12:nonroot", "alpine:3.20", "scratch"]),
        "COPY --from=build /out/app /app",
        "USER %s" % rng.choice(["65532:65532", "nobody", "root"]),
        "ENTRYPOINT [\"/app\"]",
    ])


def java_file(rng, i):
    return "\n".join([
        "FROM maven:3.9-eclipse-temurin-21 AS build",
        "WORKDIR /build",
        "COPY pom.xml .",
        "RUN mvn -B -q dependency:go-offline",
        "COPY src ./src",
        "RUN mvn -B -q package -DskipTests && cp target/*.jar /build/app.jar",
        "FROM eclipse-temurin:21-jre",
        "RUN groupadd -r app && useradd -r -g app -u %d app" % rng.choice([10001, 1000000]),
        "WORKDIR /opt/app",
        "COPY --from=build /build/app.jar app.jar",
        "EXPOSE 8080",
        "HEALTHCHECK --interval=30s --timeout=3s CMD curl -f http://localhost:8080/actuator/health || exit 1",
        "USER app",
        "ENTRYPOINT [\"java\", \"-XX:MaxRAMPercentage=75\", \"-jar\", \"app.jar\"]",
    ])


def node_file(rng, i):
    npm = " ".join(pinned(rng, p, "@", "1.0.0") for p in rng.sample(NPM, rng.randint(1, 3)))
    return "\n".join([
        "FROM node:22-alpine AS deps",
        "WORKDIR /app",
        "COPY package.json package-lock.json ./",
        "RUN npm ci --omit=dev",
        "FROM node:22-alpine",
        apk_run(rng),
        "RUN npm install -g %s" % npm,
        "WORKDIR /app",
        "COPY --from=deps /app/node_modules ./node_modules",
        "COPY . .",
        "ENV NODE_ENV=production PORT=3000",
        "EXPOSE 3000",
        "USER node",
        "CMD %s" % rng.choice(["[\"node\", \"server.js\"]", "node server.js"]),
    ])


def python_file(rng, i):
    parts = [
        "FROM %s" % rng.choice(["python:3.12-slim", "debian:12.8-slim", "ubuntu:24.04"]),
        "LABEL org.opencontainers.image.source=\"https://example.com/org/app%d\" \\" % i,
        "      org.opencontainers.image.licenses=\"Apache-2.0\"",
        "ENV PYTHONDONTWRITEBYTECODE=1 \\",
        "    PYTHONUNBUFFERED=1",
        apt_run(rng),
        "WORKDIR /app",
        pip_run(rng),
        "COPY . .",
    ]
    if rng.random() < 0.4:
        parts.append(heredoc_run(rng))
    if rng.random() < 0.2:
        parts.append("RUN curl -fsSL https://install.example.com/tool.sh | sh")
    if rng.random() < 0.2:
        parts.append("ENV API_TOKEN=tok_%032x" % rng.getrandbits(128))
    parts += ["EXPOSE 8000",
              "USER %s" % rng.choice(["10001", "app", "root"]),
              "CMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]"]
    return "\n".join(parts)


def ubi_file(rng, i):
    return "\n".join([
        "FROM registry.access.redhat.com/ubi9/ubi-minimal:9.4",
        "RUN microdnf install -y %s && microdnf clean all" % " ".join(
            pinned(rng, p, "-", "1.2.3") for p in ["shadow-utils", "tar", "gzip", "findutils"]),
        "RUN useradd -u 1001 -r -g 0 -s /sbin/nologin app",
        "COPY --chown=1001:0 dist/ /opt/app/",
        "WORKDIR /opt/app",
        "USER 1001",
        "CMD [\"./run.sh\"]",
    ])


def suse_file(rng, i):
    return "\n".join([
        "FROM opensuse/leap:15.6",
        "RUN zypper -n refresh && zypper -n install %s && zypper clean -a" % " ".join(
            pinned(rng, p, "=", "1.2.3") for p in ["curl", "gzip", "tar"]),
        "ADD https://example.com/releases/app-%d.tar.gz /opt/" % i,
        "RUN cd /opt && tar xzf app-%d.tar.gz" % i,
        "EXPOSE 22 8080",
        "CMD /opt/app/bin/start",
    ])


def rust_file(rng, i):
    return "\n".join([
        "FROM rust:1.82 AS build",
        "WORKDIR /usr/src/app",
        "COPY . .",
        "RUN --mount=type=cache,target=/usr/local/cargo/registry cargo build --release",
        "FROM debian:12.8-slim",
        apt_run(rng),
        "COPY --from=build /usr/src/app/target/release/app /usr/local/bin/app",
        "USER 10001",
        "ENTRYPOINT [\"/usr/local/bin/app\"]",
    ])


KINDS = [go_file, java_file, node_file, python_file, ubi_file, suse_file, rust_file]


def main():
    out = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 600
    rng = random.Random(20261206)
    os.makedirs(out, exist_ok=True)
    total = 0
    for i in range(count):
        text = rng.choice(KINDS)(rng, i) + "\n"
        # A comment header as real files have.
        text = "# Service %d: built by CI\n# Maintainer: team-%d@example.com\n\n" % (i, i % 17) + text
        sub = os.path.join(out, "svc%03d" % (i // 10))
        os.makedirs(sub, exist_ok=True)
        name = "Dockerfile" if i % 10 == 0 else "svc%d.Dockerfile" % i
        with open(os.path.join(sub, name), "w") as f:
            f.write(text)
        total += len(text)
    print("wrote %d Dockerfiles, %d bytes, into %s" % (count, total, out))


if __name__ == "__main__":
    main()
