# expect: dockerfile-multiple-entrypoint at stage[0].ENTRYPOINT[1]
FROM debian:12
ENTRYPOINT ["a"]
ENTRYPOINT ["b"]
