# expect: dockerfile-add-instead-of-copy at stage[0].ADD[0]
FROM debian:12
ADD app.conf /etc/app/
