# expect: dockerfile-from-platform at stage[0].FROM[0]
FROM --platform=linux/amd64 debian:12
