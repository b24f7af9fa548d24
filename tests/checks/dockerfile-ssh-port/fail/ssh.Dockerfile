# expect: dockerfile-ssh-port at stage[0].EXPOSE[0]
FROM debian:12
EXPOSE 80 22/tcp
