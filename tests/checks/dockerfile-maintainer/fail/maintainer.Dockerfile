# expect: dockerfile-maintainer at stage[0].MAINTAINER[0]
FROM debian:12
MAINTAINER someone@example.com
