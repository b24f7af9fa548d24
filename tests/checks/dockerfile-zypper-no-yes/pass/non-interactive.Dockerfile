FROM opensuse/leap:15.6
RUN zypper -n install curl=8.6.0 && zypper install -y git=2.43 && zypper --non-interactive rm vim && zypper refresh && zypper clean
