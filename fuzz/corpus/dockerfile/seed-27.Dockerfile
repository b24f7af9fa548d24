# expect: dockerfile-copy-from-self at stage[app].COPY[0]
FROM debian:12 AS app
COPY --from=app /a /b
