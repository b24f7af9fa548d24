# expect: dockerfile-yum-clean at stage[0].RUN[0]
FROM centos:7
RUN yum clean all && yum install -y httpd-2.4.6
