FROM debian:12 AS build
FROM debian:12 AS app
COPY --from=build /a /b
