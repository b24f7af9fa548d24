# expect: dockerfile-latest-tag at stage[0].FROM[0]
FROM nginx:latest
