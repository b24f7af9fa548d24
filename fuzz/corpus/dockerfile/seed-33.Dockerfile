# expect: dockerfile-duplicate-stage at stage[Build].FROM[0]
FROM golang:1.22 AS build
FROM golang:1.23 AS Build
