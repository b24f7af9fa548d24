# expect: dockerfile-expose-invalid at stage[0].EXPOSE[0]
# expect: dockerfile-expose-invalid at stage[0].EXPOSE[0]
FROM debian:12
EXPOSE 80 70000 8000-80000/tcp
