# An independent mDNS client for the mDNS tests: Debian's python3-zeroconf, run with
# /usr/bin/python3 inside the test's private network namespace. Browses
# _can-server._tcp (or the type given second, e.g. _http._tcp.local.) for N seconds and prints one JSON line per event:
#   {"ev": "add", "name": ..., "addresses": [...], "port": ..., "server": ..., "txt": {...}}
#   {"ev": "remove", "name": ...}
import json
import sys
import time

from zeroconf import ServiceBrowser, ServiceListener, Zeroconf

SERVICE = "_can-server._tcp.local."


class Listener(ServiceListener):
    def _emit(self, obj):
        print(json.dumps(obj), flush=True)

    def add_service(self, zc, type_, name):
        info = zc.get_service_info(type_, name, timeout=3000)
        if info is None:
            self._emit({"ev": "unresolved", "name": name})
            return
        txt = {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()}
        self._emit({"ev": "add", "name": name, "addresses": info.parsed_addresses(), "port": info.port, "server": info.server, "txt": txt})

    def update_service(self, zc, type_, name):
        self._emit({"ev": "update", "name": name})

    def remove_service(self, zc, type_, name):
        self._emit({"ev": "remove", "name": name})


seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
if len(sys.argv) > 2:
    SERVICE = sys.argv[2]
zc = Zeroconf(interfaces=["127.0.0.1"])
browser = ServiceBrowser(zc, SERVICE, Listener())
time.sleep(seconds)
zc.close()
