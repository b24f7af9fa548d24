# expect: dockerfile-yum-unpinned at stage[0].RUN[0]
# expect: dockerfile-yum-unpinned at stage[0].RUN[0]
FROM centos:7
RUN yum install -y httpd tar-1.26 && yum module install -y nodejs && yum clean all
