// tree - the twin of bench/tree.c: a recursive spawn tree; every inner
// goroutine starts 10 children and joins them (a sync.WaitGroup), a leaf
// returns 1 and each inner node the sum of its children's results.
// LEAVES (default 100,000) must be a power of ten.  Prints ms for the
// whole tree.
//
// STACK is accepted and ignored: Go has no stack attribute.  Goroutine
// stacks start small (2 KiB, or the average size seen so far since Go
// 1.19) and grow by copying.
//
// usage: tree [LEAVES [STACK]]
package main

import (
	"fmt"
	"os"
	"sync"
	"time"

	"weftbench/internal/bench"
)

const fanout = 10

func node(depth int) int64 {
	if depth == 0 {
		return 1
	}
	var r [fanout]int64
	var wg sync.WaitGroup
	wg.Add(fanout)
	for k := 0; k < fanout; k++ {
		go func(k int) {
			r[k] = node(depth - 1)
			wg.Done()
		}(k)
	}
	wg.Wait()
	leaves := int64(0)
	for _, v := range r {
		leaves += v
	}
	return leaves
}

func main() {
	bench.Name = "tree"
	leaves := bench.ArgCount(1, 100000)
	bench.ArgCount(2, 0) // STACK: checked, then ignored
	depth := 0
	n := leaves
	for ; n > 1 && n%fanout == 0; n /= fanout {
		depth++
	}
	if n != 1 {
		fmt.Fprintf(os.Stderr, "tree: error: LEAVES must be a power of %d\n", fanout)
		os.Exit(2)
	}
	t0 := time.Now()
	r := node(depth) // main is the root
	if r != leaves {
		bench.Fail("counted %d leaves, not %d", r, leaves)
	}
	bench.Report("ms", float64(time.Since(t0).Nanoseconds())/1e6, leaves)
}
