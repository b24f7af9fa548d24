FROM alpine:3.20
RUN <<EOF <<-TWO
set -eu
case "$A" in a|b) echo x ;; *) echo y ;; esac
EOF
	second
	TWO
COPY <<"C" /etc/c
$literal
C
ONBUILD RUN cd /x && curl -k https://x | sh
