package accesslog

import (
	"errors"
	"fmt"
	"strings"
)

// WithExtra makes the built-in JSON decoders (kong, envoy, krakend-json,
// and those auto picks) copy more fields of each line into Event.Fields:
// fields maps a name (a label name: [a-zA-Z_][a-zA-Z0-9_]*) to the dotted
// JSON path of the field ("request.headers.x-ab-variant" for Kong,
// "x_variant" for a key of an Envoy json_format). Values are taken as the
// generic json format takes them: strings, numbers and booleans as their
// text, objects and arrays as their JSON text; a null or absent field is
// left out of Fields. Kong's request headers keep their first value when
// repeated. Event.Fields is created on the first line and reused; its
// values point into the line or the decoder's buffers like the other
// Event strings. The krakend, envoy-text and json formats do not take
// WithExtra (json has Mapping.Extra).
func WithExtra(fields map[string]string) Option {
	return func(o *options) { o.extra = fields }
}

// ValidateExtra checks the names and paths of extra fields (WithExtra).
func ValidateExtra(fields map[string]string) error {
	var errs []error
	for _, name := range sortedKeys(fields) {
		if !labelName(name) {
			errs = append(errs, fmt.Errorf("extra field name %q must match [a-zA-Z_][a-zA-Z0-9_]*", name))
		}
		if err := checkPath(fields[name]); err != nil {
			errs = append(errs, fmt.Errorf("extra %s: %w", name, err))
		}
	}
	if len(fields) > MaxExtraFields {
		errs = append(errs, fmt.Errorf("%d extra fields; at most %d", len(fields), MaxExtraFields))
	}
	return errors.Join(errs...)
}

// MaxExtraFields bounds the extra fields of one decoder.
const MaxExtraFields = 32

// ExtraFormats are the formats that take extra fields (WithExtra).
var ExtraFormats = []string{"kong", "envoy", "krakend-json", "auto"}

// setExtra adds the extra fields to an objReader-based decoder.
func (r *objReader) setExtra(root *keyCache, fields map[string]string) error {
	for _, name := range sortedKeys(fields) {
		if err := r.addExtra(root, name, fields[name]); err != nil {
			return err
		}
	}
	return nil
}

// SetExtra makes d copy the fields at the given paths into Event.Fields
// (see WithExtra).
func (d *KongDecoder) SetExtra(fields map[string]string) error {
	if err := ValidateExtra(fields); err != nil {
		return err
	}
	return d.obj.setExtra(&d.keys, fields)
}

// SetExtra makes d copy the fields at the given paths into Event.Fields
// (see WithExtra).
func (d *EnvoyDecoder) SetExtra(fields map[string]string) error {
	if err := ValidateExtra(fields); err != nil {
		return err
	}
	return d.obj.setExtra(&d.keys, fields)
}

// SetExtra makes d copy the fields at the given paths into Event.Fields
// (see WithExtra).
func (d *KrakenDJSONDecoder) SetExtra(fields map[string]string) error {
	if err := ValidateExtra(fields); err != nil {
		return err
	}
	d.xroot = &mnode{}
	d.xnames = sortedKeys(fields)
	for i, name := range d.xnames {
		n := d.xroot
		for seg := range strings.SplitSeq(fields[name], ".") {
			c := n.child(seg)
			if c == nil {
				c = &mnode{}
				n.children = append(n.children, mchild{name: seg, node: c})
			}
			n = c
		}
		n.targets = append(n.targets, i)
	}
	d.xvals = make([]string, len(d.xnames))
	d.xhave = make([]bool, len(d.xnames))
	return nil
}

// extraValue reads, for the extra fields, the value of a key whose node
// in the extra tree is n. For a node with fields under it and an object
// value it reads the object and returns true; else it reads the value
// for n's own fields (if any) and rewinds, so that the decoder reads it
// again for itself.
func (d *KrakenDJSONDecoder) extraValue(n *mnode) (bool, error) {
	s := &d.s
	if n.children != nil && s.peek() == kindObject {
		start := s.pos
		if err := d.extraObject(n); err != nil {
			return true, err
		}
		for _, i := range n.targets {
			d.xvals[i], d.xhave[i] = bstr(s.buf[start:s.pos]), true
		}
		return true, nil
	}
	if len(n.targets) == 0 {
		return false, nil
	}
	s.ws()
	start := s.pos
	v, ok, err := extraText(s)
	if err != nil {
		return false, err
	}
	for _, i := range n.targets {
		d.xvals[i], d.xhave[i] = v, ok
	}
	s.pos = start
	return false, nil
}

// extraObject reads an object for the extra fields under n.
func (d *KrakenDJSONDecoder) extraObject(n *mnode) error {
	s := &d.s
	if err := s.beginObject(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, more, err := s.nextKey(first)
		if err != nil || !more {
			return err
		}
		c := n.child(key)
		switch {
		case c == nil:
			err = s.skip()
		case c.children != nil && s.peek() == kindObject:
			start := s.pos
			err = d.extraObject(c)
			for _, i := range c.targets {
				d.xvals[i], d.xhave[i] = bstr(s.buf[start:s.pos]), true
			}
		case len(c.targets) > 0:
			var v string
			var ok bool
			v, ok, err = extraText(s)
			for _, i := range c.targets {
				d.xvals[i], d.xhave[i] = v, ok
			}
		default:
			err = s.skip()
		}
		if err != nil {
			return err
		}
	}
}

// extraText reads a value as the json format's mapping does: objects and
// arrays as their JSON text, other values as strVal reads them.
func extraText(s *jsonScanner) (string, bool, error) {
	if k := s.peek(); k == kindObject || k == kindArray {
		start := s.pos
		if err := s.skip(); err != nil {
			return "", false, err
		}
		return bstr(s.buf[start:s.pos]), true, nil
	}
	return s.strVal()
}

// fillExtra copies the extra fields read into e.Fields.
func (d *KrakenDJSONDecoder) fillExtra(e *Event) {
	if e.Fields == nil {
		e.Fields = make(map[string]string, len(d.xnames))
	}
	for i, name := range d.xnames {
		if d.xhave[i] {
			e.Fields[name] = d.xvals[i]
		}
	}
}
