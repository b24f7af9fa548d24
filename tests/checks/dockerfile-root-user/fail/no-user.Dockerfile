# expect: dockerfile-root-user at stage[1].FROM[0]
FROM debian:12 AS build
USER nobody
FROM gcr.io/distroless/static:nonroot
COPY --from=build /app /app
