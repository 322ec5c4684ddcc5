// Package bench is bench/bench.h for the Go twins: the result line, loud
// failure and the argument parser, so that every twin prints exactly what
// its C program prints:
//
//	BENCH name=NAME unit=UNIT value=V ops=N      (exit 0)
//
// and any error "NAME: error: ..." on stderr (exit 1).  There is no
// "cannot" form: starting a goroutine cannot fail with EAGAIN, and a Go
// program out of memory dies (bench/run.sh then shows "fail").
package bench

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// Name is the program's name in its BENCH line and its errors.
var Name = "bench"

// Report prints the result line.
func Report(unit string, value float64, ops int64) {
	fmt.Printf("BENCH name=%s unit=%s value=%.1f ops=%d\n", Name, unit, value, ops)
}

// Fail reports an error and stops the whole process now.
func Fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "%s: error: %s\n", Name, fmt.Sprintf(format, a...))
	os.Exit(1)
}

// ArgCount is argument i as a positive count, or dflt when absent.
func ArgCount(i int, dflt int64) int64 {
	if len(os.Args) <= i {
		return dflt
	}
	v, err := strconv.ParseInt(os.Args[i], 10, 64)
	if err != nil || v <= 0 {
		fmt.Fprintf(os.Stderr, "%s: error: bad count '%s'\n", Name, os.Args[i])
		os.Exit(2)
	}
	return v
}

// Per is d over n, in ns.
func Per(d time.Duration, n int64) float64 {
	return float64(d.Nanoseconds()) / float64(n)
}
