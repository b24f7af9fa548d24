# expect: dockerfile-multiple-cmd at stage[0].CMD[1]
FROM debian:12
CMD ["a"]
CMD ["b"]
FROM debian:12
CMD ["c"]
