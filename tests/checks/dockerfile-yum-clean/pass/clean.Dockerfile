FROM centos:7
RUN yum install -y httpd-2.4.6 && yum clean all
RUN yum install -y tar-1.26 && rm -rf /var/cache/yum
