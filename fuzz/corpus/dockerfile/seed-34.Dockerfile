FROM golang:1.22 AS build
FROM debian:12 AS run
FROM debian:12
