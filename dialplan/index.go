package dialplan

import (
	"hash/maphash"
	"slices"
)

// cafeIndex finds a café's position in Directory.cafeList by a string key
// (its CafeKey, its DTMF key or one of its numbers) without holding
// pointers: a map from the key's 64-bit hash, which the garbage collector
// need not scan (string-keyed maps of 20,000 cafés were most of the work
// of every collection in a process holding a Directory). A hit is confirmed
// by the key function on the café found, so a key whose hash happens to be
// another's is not confused with it; keys sharing a hash (never seen in
// practice) are kept in a small string map.
type cafeIndex struct {
	hash   func(string) uint64
	byHash map[uint64]int32 // hash → café position, or collided
	byKey  map[string]int32 // keys whose hash is shared
	has    func(*Cafe, string) bool
}

// collided marks a hash shared by keys: they are in byKey.
const collided = -1

// newCafeIndex indexes keys (key → café position); has reports whether a
// café has a key.
func newCafeIndex(keys map[string]int32, has func(*Cafe, string) bool) *cafeIndex {
	seed := maphash.MakeSeed()
	return newCafeIndexHash(keys, has, func(s string) uint64 { return maphash.String(seed, s) })
}

// newCafeIndexHash is newCafeIndex with the hash function given (tests
// give one that collides).
func newCafeIndexHash(keys map[string]int32, has func(*Cafe, string) bool, hash func(string) uint64) *cafeIndex {
	x := &cafeIndex{hash: hash, byHash: make(map[uint64]int32, len(keys)), has: has}
	first := make(map[uint64]string, len(keys)) // the key stored under a hash
	for k, pos := range keys {
		h := x.hash(k)
		old, ok := x.byHash[h]
		switch {
		case !ok:
			x.byHash[h], first[h] = pos, k
			continue
		case old != collided:
			if x.byKey == nil {
				x.byKey = map[string]int32{}
			}
			x.byKey[first[h]] = old
			x.byHash[h] = collided
		}
		x.byKey[k] = pos
	}
	return x
}

// get returns the position of the café with key.
func (x *cafeIndex) get(cafes []Cafe, key string) (int32, bool) {
	i, ok := x.byHash[x.hash(key)]
	switch {
	case !ok:
		return 0, false
	case i == collided:
		i, ok = x.byKey[key]
		return i, ok
	}
	return i, x.has(&cafes[i], key)
}

// Key functions of the café indexes.
func cafeHasCode(c *Cafe, key string) bool  { return CafeKey(c.Code) == key }
func cafeHasDTMF(c *Cafe, key string) bool  { return dtmfKey(c.Code) == key }
func cafeHasPhone(c *Cafe, key string) bool { return slices.Contains(c.Phones, key) }
