# expect: dockerfile-untagged-image at stage[build].FROM[0]
# expect: dockerfile-untagged-image at stage[1].FROM[0]
ARG BASE=python
FROM ubuntu AS build
FROM ${BASE}
