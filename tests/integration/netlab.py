"""Network namespaces of a test's own, for partition tests.

A NetLab is a hub namespace holding a bridge; each Host is a namespace of
its own joined to the bridge by a veth pair, with one address on the
bridge's /24. While the lab is open, the calling thread (the test) lives in
the hub namespace, so the processes it starts there (etcd) and the sockets
it opens reach every host, and the host's servers see the hub. Cutting a
host takes its link down: its packets are dropped, nobody gets a reset, as
when a cable or a switch fails. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN)."""
import ctypes
import os
import random
import subprocess

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def ip(*args, check=True):
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def _setns(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns " + path + ": " + os.strerror(err))
    finally:
        os.close(fd)


def available():
    """True when this process may make network namespaces and veth pairs."""
    if os.geteuid() != 0 or subprocess.run(["which", "ip"], capture_output=True).returncode != 0:
        return False
    name = "rnprobe%d" % os.getpid()
    ok = ip("netns", "add", name, check=False).returncode == 0
    if ok:
        ip("netns", "del", name, check=False)
    return ok


class Host:
    def __init__(self, lab, index):
        self.lab = lab
        self.ns = f"{lab.tag}h{index}"
        self.link = f"{lab.tag}v{index}"  # the hub's end of the veth pair
        self.addr = f"{lab.prefix}.{10 + index}"
        ip("netns", "add", self.ns)
        ip("link", "add", self.link, "type", "veth", "peer", "name", "eth0", "netns", self.ns)
        ip("link", "set", self.link, "master", lab.bridge, "up")
        for cmd in (["addr", "add", f"{self.addr}/24", "dev", "eth0"], ["link", "set", "eth0", "up"],
                    ["link", "set", "lo", "up"]):
            ip("-n", self.ns, *cmd)

    def command(self, *argv):
        """argv run inside this host's namespace (exec'd: the pid is argv's)."""
        return ["ip", "netns", "exec", self.ns, *argv]

    def cut(self):
        ip("link", "set", self.link, "down")

    def heal(self):
        ip("link", "set", self.link, "up")

    def enter(self):
        """Moves the calling thread into this host's namespace (for a client
        on the host's side of a partition); call from that thread only."""
        _setns(f"/var/run/netns/{self.ns}")

    def remove(self):
        ip("netns", "del", self.ns, check=False)


class NetLab:
    def __init__(self):
        self.tag = "rn%04x" % random.randrange(0x10000)
        self.prefix = f"10.{random.randrange(100, 250)}.{random.randrange(0, 250)}"
        self.hub = f"{self.tag}hub"
        self.bridge = f"{self.tag}br"
        self.hub_addr = f"{self.prefix}.1"
        self.hosts = []
        self._home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        ip("netns", "add", self.hub)
        _setns(f"/var/run/netns/{self.hub}")
        ip("link", "set", "lo", "up")
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.hub_addr}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")

    def add_host(self):
        host = Host(self, len(self.hosts))
        self.hosts.append(host)
        return host

    def close(self):
        """Back to the namespace the lab was opened from; every namespace
        (and with it every link) goes."""
        if _libc.setns(self._home, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back home")
        os.close(self._home)
        for h in self.hosts:
            h.remove()
        ip("netns", "del", self.hub, check=False)
