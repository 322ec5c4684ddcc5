// echo_server - the twin of examples/echo_server.c: a goroutine-per-
// connection TCP echo server.  Main accepts connections and starts one
// goroutine per connection, which echoes with blocking Read and Write of
// up to 4096 bytes until the peer closes (not io.Copy, which on Linux
// splices and would not be the same program).
//
// usage: echo_server [PORT]   (default 0: an ephemeral port)
// Listens on 127.0.0.1:PORT and prints "port N" on stdout.  Accept errors
// are reported on stderr; a temporary one (out of file descriptors or
// memory) makes it pause 100 ms and carry on.  A peer that vanishes only
// ends its own goroutine (Go reports EPIPE instead of raising SIGPIPE on
// a socket).  Stop it with SIGTERM or SIGINT.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

func echo(c net.Conn) {
	defer c.Close()
	var buf [4096]byte
	for {
		n, err := c.Read(buf[:])
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			// A peer that resets or goes away is normal; anything else is odd.
			if err != io.EOF && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
				fmt.Fprintf(os.Stderr, "echo_server: %v\n", err)
			}
			return
		}
	}
}

func main() {
	port := 0
	if len(os.Args) > 2 {
		usage()
	}
	if len(os.Args) == 2 {
		p, err := strconv.Atoi(os.Args[1])
		if err != nil || p < 0 || p > 65535 {
			usage()
		}
		port = p
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "echo_server: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("port %d\n", l.Addr().(*net.TCPAddr).Port)
	for {
		c, err := l.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Temporary() { //nolint:staticcheck // EMFILE is "temporary"
				fmt.Fprintf(os.Stderr, "echo_server: accept: %v (pausing 100 ms)\n", err)
				time.Sleep(100 * time.Millisecond)
				continue
			}
			fmt.Fprintf(os.Stderr, "echo_server: accept: %v\n", err)
			os.Exit(1)
		}
		go echo(c)
	}
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: %s [PORT]   (0 or none: an ephemeral port)\n", os.Args[0])
	os.Exit(2)
}
