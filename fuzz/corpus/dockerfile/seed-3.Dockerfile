# expect: dockerfile-add-remote at stage[0].ADD[0]
FROM debian:12
ADD https://example.com/tool.tar.gz /opt/
