# options: {allow: [registry.example.com]}
FROM registry.example.com/golang:1.23 AS build
FROM build AS test
FROM scratch
ARG UNSET
FROM ${UNSET}
