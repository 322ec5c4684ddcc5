// pipeline - the twin of bench/pipeline.c (read its comment first): a
// pigz-shaped pipeline.  A producer goroutine cuts BLOCKS blocks of 128
// KiB, THREADS compressor goroutines (default 2) each run the same
// LZ77-style match finder over a block, and a writer goroutine takes the
// results strictly in block order and folds them into one checksum.
// Blocks travel as in the C program, which does as pigz does: a bounded
// pool of 2 * THREADS + 3 buffers, a compress queue and a write list
// sorted by block number, each behind one sync.Mutex and one sync.Cond,
// every change announced with Broadcast (pigz's yarn `twist`).  Channels
// would be the idiomatic Go for a queue, but they would not be the same
// program: this is the C program's locking, written in Go.  Prints the
// wall time in ms from the first go statement to the last join, and the
// same checksum as the C program (check=), checked the same way.
//
// usage: pipeline [BLOCKS [THREADS]]   (default 8000 blocks, 2 threads)
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"time"

	"weftbench/internal/bench"
)

const (
	block    = 128 * 1024  // pigz's default block size
	srcSize  = 1024 * 1024 // the "input file" blocks are cut from
	hbits    = 15          // deflate's hash: 3 bytes, 15 bits
	hsize    = 1 << hbits
	maxMatch = 258
	sample   = 64 // main recomputes every 64th block
	fnvPrime = 0x100000001b3
)

// The final checksum for the block counts bench/run.sh uses.
var known = map[int64]uint64{
	500:  0x2a60a1dddf3b5130,
	8000: 0x5d347d74f440bad8,
}

type job struct {
	seq    int64
	buf    []byte
	result uint64
	next   *job
}

// A mutex, a condvar and the list it guards: pigz's yarn "lock".
type queue struct {
	mu         sync.Mutex
	c          *sync.Cond
	head, tail *job
}

func newQueue() *queue {
	q := &queue{}
	q.c = sync.NewCond(&q.mu)
	return q
}

// twist announces a change and lets go, as pigz's twist() does.
func (q *queue) twist() {
	q.c.Broadcast()
	q.mu.Unlock()
}

func (q *queue) append(j *job) {
	j.next = nil
	if q.tail != nil {
		q.tail.next = j
	} else {
		q.head = j
	}
	q.tail = j
}

func (q *queue) take() *job {
	j := q.head
	q.head = j.next
	if q.head == nil {
		q.tail = nil
	}
	return j
}

var (
	pool, work, done = newQueue(), newQueue(), newQueue()
	blocks           int64
	src              []byte
	results          []uint64 // written by the writer, by seq
	finalCheck       uint64
	end              = &job{seq: -1} // the last job: no more blocks
)

// makeSrc is the deterministic "input": 16 letters from an LCG, some
// repeats to match.
func makeSrc() {
	x := uint32(12345)
	for i := 0; i < srcSize+block; i++ {
		x = x*1103515245 + 12345
		src[i] = byte('a' + (x >> 27 & 15))
		if i >= 64 && (x>>8&7) == 0 { // copy a run from back there
			from := i - 1 - int(x>>12&63)
			for k := 0; k < 8 && i < srcSize+block; k, i = k+1, i+1 {
				src[i] = src[from+k]
			}
			i--
		}
	}
}

// fill gives block seq its contents: a slice of src, its number in the
// first 8 bytes.
func fill(b []byte, seq int64) {
	copy(b, src[(seq*40503)%srcSize:][:block])
	binary.LittleEndian.PutUint64(b, uint64(seq))
}

// crunch is the compressor's work, as in pipeline.c: greedy LZ77 over the
// block with deflate's rolling 3-byte hash and a head table, hashing the
// token stream with FNV-1a.
func crunch(b []byte, head *[hsize]uint32) uint64 {
	p := (*[block]byte)(b) // arrays of known size: fewer bounds checks
	f := uint64(1469598103934665603)
	h := (uint32(p[0])<<5 ^ uint32(p[1])) & (hsize - 1)
	i := 0

	*head = [hsize]uint32{}
	for i+2 < block {
		h = (h<<5 ^ uint32(p[i+2])) & (hsize - 1)
		cand := int(head[h])
		head[h] = uint32(i + 1)
		n := 0
		if cand != 0 {
			cand--
			for n < maxMatch && i+n < block && p[cand+n] == p[i+n] {
				n++
			}
		}
		if n >= 3 {
			f = (f ^ uint64(i-cand)<<16 ^ uint64(n)) * fnvPrime
			i += n
			if i+1 < block {
				h = (uint32(p[i])<<5 ^ uint32(p[i+1])) & (hsize - 1)
			}
		} else {
			f = (f ^ uint64(p[i])) * fnvPrime
			i++
		}
	}
	for ; i < block; i++ {
		f = (f ^ uint64(p[i])) * fnvPrime
	}
	return f
}

func producer() {
	for seq := int64(0); seq < blocks; seq++ {
		pool.mu.Lock() // pigz: get_space()
		for pool.head == nil {
			pool.c.Wait()
		}
		j := pool.take()
		pool.twist()
		j.seq = seq
		fill(j.buf, seq)
		work.mu.Lock() // pigz: the reader queues a job
		work.append(j)
		work.twist()
	}
	work.mu.Lock()
	work.append(end)
	work.twist()
}

func compressor() {
	head := new([hsize]uint32)
	for {
		work.mu.Lock()
		for work.head == nil {
			work.c.Wait()
		}
		if work.head == end { // left there for the others
			work.mu.Unlock()
			return
		}
		j := work.take()
		work.twist()
		if stamp := binary.LittleEndian.Uint64(j.buf); stamp != uint64(j.seq) {
			fmt.Fprintf(os.Stderr, "pipeline: error: block %d holds block %d's data\n", j.seq, stamp)
			os.Exit(1)
		}
		j.result = crunch(j.buf, head)
		done.mu.Lock() // into the write list, sorted
		p := &done.head
		for *p != nil && (*p).seq < j.seq {
			p = &(*p).next
		}
		j.next = *p
		*p = j
		done.twist()
	}
}

// writer takes the results in block order, as pigz's writer does.
func writer() {
	sum := uint64(0)
	for seq := int64(0); seq < blocks; seq++ {
		done.mu.Lock()
		for done.head == nil || done.head.seq != seq {
			done.c.Wait()
		}
		j := done.take()
		done.mu.Unlock()
		results[seq] = j.result
		sum = (sum^j.result)*fnvPrime + uint64(seq)
		pool.mu.Lock() // pigz: drop_space()
		pool.append(j)
		pool.twist()
	}
	finalCheck = sum
}

func main() {
	bench.Name = "pipeline"
	blocks = bench.ArgCount(1, 8000)
	threads := bench.ArgCount(2, 2)
	njobs := 2*threads + 3 // pigz's INBUFS(p)
	src = make([]byte, srcSize+block)
	results = make([]uint64, blocks)
	head := new([hsize]uint32)
	makeSrc()
	for i := int64(0); i < njobs; i++ {
		pool.append(&job{buf: make([]byte, block)})
	}

	var wg sync.WaitGroup
	t0 := time.Now()
	wg.Add(int(threads) + 2)
	go func() { writer(); wg.Done() }()
	for i := int64(0); i < threads; i++ {
		go func() { compressor(); wg.Done() }()
	}
	go func() { producer(); wg.Done() }()
	wg.Wait()
	t1 := time.Now()

	// Check: a sample of blocks recomputed here, the total if known.
	for i := int64(0); i < blocks; i += sample {
		fill(pool.head.buf, i)
		if r := crunch(pool.head.buf, head); r != results[i] {
			bench.Fail("block %d: result %016x, not %016x", i, results[i], r)
		}
	}
	checked := "sample"
	if k, ok := known[blocks]; ok {
		if k != finalCheck {
			bench.Fail("checksum %016x, not %016x", finalCheck, k)
		}
		checked = "known"
	}
	fmt.Printf("BENCH name=%s unit=ms value=%.1f ops=%d threads=%d check=%016x checked=%s\n",
		bench.Name, float64(t1.Sub(t0).Nanoseconds())/1e6, blocks, threads, finalCheck, checked)
}
