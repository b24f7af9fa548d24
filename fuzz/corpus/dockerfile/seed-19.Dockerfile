# expect: dockerfile-base-not-pinned at stage[b].FROM[0]
FROM debian:12.8 AS b
FROM b
