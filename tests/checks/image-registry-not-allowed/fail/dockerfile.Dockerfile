# options: {allow: [registry.example.com], deny: [docker.io/library/ubuntu]}
# expect: image-registry-not-allowed at stage[0].FROM[0]
# expect: image-registry-not-allowed at stage[b].FROM[0]
ARG BASE=ubuntu:24.04
FROM ${BASE}
FROM ghcr.io/org/tool:1 AS b
FROM registry.example.com/base/debian:12
