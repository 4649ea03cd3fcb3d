package accesslog

import (
	"fmt"
	"strings"
)

// Modes of a field id in an objReader: how its value is read.
const (
	// omValue: a value, stored in the fieldVals.
	omValue = iota
	// omObject: an object, read key by key with the id's child cache.
	omObject
	// omFirstStr: a value, or the first string of an array (Kong logs a
	// repeated request header as an array).
	omFirstStr
	// omElems: an array of objects, each read key by key with the id's
	// child cache; the values of the last one count (Kong's tries).
	omElems
)

// objReader is the structured path of the Envoy and Kong decoders: it
// reads the objects of a line the decoder knows key by key (scanObject,
// then keyID and readValue where scanObject stops), descending into the
// objects of the field ids that have a child cache, and records the
// line's layout for its template.
type objReader struct {
	mode  [maxFieldIDs]uint8
	child [maxFieldIDs]*keyCache
	// elemClear are the ids an omElems element forgets before it is
	// read; elems counts the elements read on the line.
	elemClear []int
	elems     int
	// firstStrIn is the object whose keys are all omFirstStr (Kong's
	// request.headers), for extra fields added there.
	firstStrIn *keyCache
	// extra are the extra fields, by name (sorted).
	extra []extraField
	// nextID is the next free field id.
	nextID int
	// extraObj marks the objects read only for extra fields.
	extraObj [maxFieldIDs]bool
}

// extraField is an extra field a decoder copies into Event.Fields.
type extraField struct {
	name string
	id   int
}

// object reads the rest of an object (after its '{'), whose key order kc
// caches, into f.
func (r *objReader) object(s *jsonScanner, f *fieldVals, kc *keyCache) error {
	for i := 0; ; {
		next, stop := s.scanObject(kc, i, f)
		id := 0
		switch stop {
		case stopEnd:
			return nil
		case stopValue:
			id = int(kc.e[(next-1)%maxCachedKeys].id)
		case stopMiss:
			var more bool
			var err error
			id, more, err = s.keyID(kc, next, next == 0)
			if err != nil || !more {
				return err
			}
			next++
		}
		if err := r.value(s, f, id); err != nil {
			return err
		}
		i = next
	}
}

// value reads the value of the key with field id.
func (r *objReader) value(s *jsonScanner, f *fieldVals, id int) error {
	id %= maxFieldIDs
	switch r.mode[id] {
	case omObject:
		s.ws()
		start := s.pos
		if !s.enterObject() {
			return r.skipScalar(s, start, '{')
		}
		return r.object(s, f, r.child[id])
	case omElems:
		return r.elements(s, f, id)
	case omFirstStr:
		if s.peek() == kindArray {
			// A repeated header: its first value. (Rare: lines with
			// one have no template.)
			if s.rec != nil {
				s.rec.ok = false
			}
			v, ok, err := s.firstStrVal()
			if err != nil {
				return err
			}
			f.setStr(id, v, s.pos)
			if !ok {
				f.kind[id] = fvNull
			}
			return nil
		}
	}
	return s.readValue(id, f)
}

// skipScalar skips a value at start that is not the object or array
// (not) the decoder descends into.
func (r *objReader) skipScalar(s *jsonScanner, start int, not byte) error {
	err := s.skip()
	if rec := s.rec; rec != nil && err == nil {
		rec.add(start, s.pos, 0, teSkipScalar, not)
	}
	return err
}

// elements reads an array of objects.
func (r *objReader) elements(s *jsonScanner, f *fieldVals, id int) error {
	if s.peek() != kindArray {
		return r.skipScalar(s, s.pos, '[')
	}
	if err := s.beginArray(); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := s.nextElem(first)
		if err != nil || !more {
			return err
		}
		if !s.enterObject() {
			if err := s.skip(); err != nil {
				return err
			}
			continue
		}
		for _, c := range r.elemClear {
			f.kind[c%maxFieldIDs] = fvAbsent
		}
		// A template cannot forget the first element's values: lines
		// with more than one are read by this path.
		if r.elems++; r.elems > 1 && s.rec != nil {
			s.rec.ok = false
		}
		if err := r.object(s, f, r.child[id]); err != nil {
			return err
		}
	}
}

// addExtra makes the reader read the field at the dotted path under the
// object root caches as extra field name, reading new objects on the way
// where needed.
func (r *objReader) addExtra(root *keyCache, name, path string) error {
	kc := root
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		at := strings.Join(segs[:i+1], ".")
		id := kc.id(seg)
		if i == len(segs)-1 {
			if id != 0 && (r.mode[id] == omObject || r.mode[id] == omElems) {
				if r.extraObj[id] {
					return fmt.Errorf("extra %s: %s holds other extra fields; an object cannot be an extra field too", name, at)
				}
				return fmt.Errorf("extra %s: %s is an object the decoder reads key by key; name a field inside it", name, at)
			}
			if id == 0 {
				if id = r.newID(); id == 0 {
					return fmt.Errorf("extra %s: too many fields", name)
				}
				kc.add(seg, id)
				if kc == r.firstStrIn {
					r.mode[id] = omFirstStr
				}
			}
			r.extra = append(r.extra, extraField{name: name, id: id})
			return nil
		}
		switch {
		case id == 0:
			if id = r.newID(); id == 0 {
				return fmt.Errorf("extra %s: too many fields", name)
			}
			kc.add(seg, id)
			r.mode[id], r.child[id] = omObject, new(keyCache)
			r.extraObj[id] = true
		case r.mode[id] == omElems:
			return fmt.Errorf("extra %s: %s is an array; extra fields cannot index arrays", name, at)
		case r.mode[id] != omObject:
			for _, x := range r.extra {
				if x.id == id {
					return fmt.Errorf("extra %s: %s is extra field %s; an extra field cannot hold others", name, at, x.name)
				}
			}
			return fmt.Errorf("extra %s: %s is a value, not an object", name, at)
		}
		kc = r.child[id]
	}
	return nil
}

func (r *objReader) newID() int {
	if r.nextID >= maxFieldIDs {
		return 0
	}
	r.nextID++
	return r.nextID - 1
}

// fillExtra copies the extra fields of the line into e.Fields: strings,
// numbers and booleans as their text, objects and arrays as their JSON
// text; null and absent fields are left out. The decoders do not reset
// e: the map still holds the previous line's fields, which are
// overwritten or deleted in place (cheaper than clearing the map and
// adding them again); a map that held other keys too is cleared first.
func (r *objReader) fillExtra(f *fieldVals, e *Event) {
	if e.Fields == nil {
		e.Fields = make(map[string]string, len(r.extra))
	}
	for pass := 0; pass < 2; pass++ {
		n := 0
		for _, x := range r.extra {
			if v, ok := f.raw(x.id); ok {
				e.Fields[x.name] = v
				n++
			} else {
				delete(e.Fields, x.name)
			}
		}
		if len(e.Fields) == n {
			return
		}
		clear(e.Fields) // keys of another decoder
	}
}
