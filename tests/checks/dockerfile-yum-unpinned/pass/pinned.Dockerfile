FROM centos:7
RUN yum install -y httpd-2.4.6 ./local.rpm && yum module install -y nodejs:20 && yum clean all
