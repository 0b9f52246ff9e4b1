package testbed

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// StartEcho serves a line protocol on port (IPv4): each line read is
// answered with "NAME: line", so a client can tell which backend a
// long-lived connection reached. It stops when the test ends.
func (l *Lab) StartEcho(b *Backend, port uint16) error {
	stop, err := b.ServeEcho(port)
	if err != nil {
		return err
	}
	l.t.Cleanup(stop)
	return nil
}

// ServeEcho serves the line protocol of Lab.StartEcho on port of the
// backend's IPv4 address and IPv4 VIPs until stop is called.
func (b *Backend) ServeEcho(port uint16) (stop func(), err error) {
	var lns []net.Listener
	stop = func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	err = Do(b.NS, func() error {
		for _, a := range b.addrs(false) {
			ln, err := net.Listen("tcp", netip.AddrPortFrom(a, port).String())
			if err != nil {
				return err
			}
			lns = append(lns, ln)
		}
		return nil
	})
	if err != nil {
		stop()
		return nil, fmt.Errorf("echo on %s: %w", b.Name, err)
	}
	for _, ln := range lns {
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					r := bufio.NewScanner(c)
					for r.Scan() {
						fmt.Fprintf(c, "%s: %s\n", b.Name, r.Text())
					}
				}()
			}
		}()
	}
	return stop, nil
}

// Conn is a long-lived TCP connection from the client namespace.
type Conn struct {
	c net.Conn
	r *bufio.Reader
}

// Dial opens a TCP connection from the client namespace to addr.
func (l *Lab) Dial(addr netip.AddrPort) (*Conn, error) { return DialFrom(l.Client, addr) }

// DialFrom opens a TCP connection from namespace ns to addr.
func DialFrom(ns string, addr netip.AddrPort) (*Conn, error) {
	var c net.Conn
	err := Do(ns, func() error {
		var err error
		c, err = net.DialTimeout("tcp", addr.String(), 3*time.Second)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Conn{c: c, r: bufio.NewReader(c)}, nil
}

// Say sends a line and returns the answer (within 3 s).
func (c *Conn) Say(line string) (string, error) {
	c.c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := fmt.Fprintln(c.c, line); err != nil {
		return "", err
	}
	s, err := c.r.ReadString('\n')
	return s[:max(0, len(s)-1)], err
}

// LocalAddr is the connection's client-side address and port (the flow's
// source, as IPVS lists it).
func (c *Conn) LocalAddr() netip.AddrPort {
	ap := c.c.LocalAddr().(*net.TCPAddr).AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// Close closes the connection.
func (c *Conn) Close() error { return c.c.Close() }
