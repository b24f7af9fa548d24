FROM debian:12
ENTRYPOINT ["a"]
FROM debian:12
ENTRYPOINT ["b"]
