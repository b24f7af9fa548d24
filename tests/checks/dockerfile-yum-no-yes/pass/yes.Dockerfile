FROM centos:7
RUN yum install -y httpd-2.4.6 && yum --assumeyes groupinstall "Development Tools" && yum clean all && yum update
