#!/bin/sh
# /usr/bin/hallclient, installed by the hallclient package: the program lives in /opt/hallclient.
exec /opt/hallclient/hallclient "$@"
