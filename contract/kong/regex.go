package kong

import (
	"fmt"
	"regexp"
	"strings"
)

// translateRegex rewrites a Kong (PCRE) path regex into Go RE2 syntax.
// Named groups (?<id>...) and (?'id'...) become (?P<id>...), \Z becomes \z
// and \h becomes [\t ]. When the expression uses something RE2 cannot run
// (lookaround, backreferences, atomic groups, possessive quantifiers, ...),
// translateRegex returns a description of the construct in problem.
func translateRegex(pcre string) (re2, problem string) {
	var b strings.Builder
	rs := []rune(pcre)
	n := len(rs)
	inClass := false
	for i := 0; i < n; i++ {
		c := rs[i]
		switch {
		case c == '\\':
			if i+1 >= n {
				return "", "a trailing backslash"
			}
			e := rs[i+1]
			i++
			switch {
			case e >= '1' && e <= '9' && !inClass:
				return "", fmt.Sprintf(`the backreference \%c`, e)
			case e == 'k' || e == 'g':
				return "", fmt.Sprintf(`the backreference \%c`, e)
			case e == 'Z' && !inClass:
				b.WriteString(`\z`)
			case e == 'h':
				if inClass {
					b.WriteString(`\t `)
				} else {
					b.WriteString(`[\t ]`)
				}
			case e == 'R' || e == 'X' || e == 'K' || e == 'G':
				return "", fmt.Sprintf(`the escape \%c`, e)
			case e == 'Q':
				// \Q...\E is literal text in both dialects: copy it as is.
				end := strings.Index(string(rs[i+1:]), `\E`)
				if end < 0 {
					b.WriteString(string(rs[i-1:]))
					i = n
					continue
				}
				lit := string(rs[i+1:])[:end]
				b.WriteString(`\Q` + lit + `\E`)
				i += len([]rune(lit)) + 2
			default:
				b.WriteRune('\\')
				b.WriteRune(e)
			}
		case inClass:
			if c == ']' {
				inClass = false
			}
			b.WriteRune(c)
		case c == '[':
			inClass = true
			b.WriteRune(c)
			// A ']' right after '[' or '[^' is a literal member.
			if i+1 < n && rs[i+1] == '^' {
				b.WriteRune('^')
				i++
			}
			if i+1 < n && rs[i+1] == ']' {
				b.WriteRune(']')
				i++
			}
		case c == '(' && i+1 < n && rs[i+1] == '?':
			rest := string(rs[i+2:])
			switch {
			case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
				return "", "a lookbehind (?" + rest[:2]
			case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"):
				return "", "a lookahead (?" + rest[:1]
			case strings.HasPrefix(rest, ">"):
				return "", "an atomic group (?>"
			case strings.HasPrefix(rest, "|"):
				return "", "a branch reset group (?|"
			case strings.HasPrefix(rest, "#"):
				return "", "a comment group (?#"
			case strings.HasPrefix(rest, "R"), strings.HasPrefix(rest, "&"),
				len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9':
				return "", "a recursive pattern (?" + rest[:1]
			case strings.HasPrefix(rest, "<"):
				b.WriteString("(?P<")
				i += 2
			case strings.HasPrefix(rest, "'"):
				end := strings.IndexByte(rest[1:], '\'')
				if end < 0 {
					return "", "an unterminated group name (?'"
				}
				name := rest[1 : 1+end]
				b.WriteString("(?P<" + name + ">")
				// Move to the closing quote: "(?" + "'" + name.
				i += 3 + len([]rune(name))
			default:
				b.WriteRune(c)
			}
		case (c == '+') && i > 0 && isQuantifier(rs[i-1]) && !escaped(rs, i-1):
			return "", "a possessive quantifier " + string(rs[i-1]) + "+"
		default:
			b.WriteRune(c)
		}
	}
	if inClass {
		return "", "an unterminated character class ["
	}
	return b.String(), ""
}

// isQuantifier reports whether r ends a quantifier that PCRE lets a '+'
// make possessive.
func isQuantifier(r rune) bool {
	return r == '*' || r == '+' || r == '?' || r == '}'
}

// escaped reports whether rs[i] is preceded by an odd number of backslashes.
func escaped(rs []rune, i int) bool {
	k := 0
	for j := i - 1; j >= 0 && rs[j] == '\\'; j-- {
		k++
	}
	return k%2 == 1
}

// literalPrefix returns the longest literal text a regex starts with, the
// fallback prefix of a path regex Go cannot run.
func literalPrefix(re string) string {
	var b strings.Builder
	rs := []rune(strings.TrimPrefix(re, "^"))
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		if strings.ContainsRune(`.[](){}*+?|^$\`, c) {
			if c == '\\' && i+1 < len(rs) && strings.ContainsRune(`/.-_~`, rs[i+1]) {
				if i+2 < len(rs) && strings.ContainsRune(`*?{`, rs[i+2]) {
					break
				}
				b.WriteRune(rs[i+1])
				i++
				continue
			}
			break
		}
		if i+1 < len(rs) && strings.ContainsRune(`*?{`, rs[i+1]) {
			break
		}
		b.WriteRune(c)
	}
	return b.String()
}

// compilePath translates one Kong path regex (without its "~") and checks
// that Go can compile it.
func compilePath(pcre string) (string, error) {
	re2, problem := translateRegex(pcre)
	if problem != "" {
		return "", fmt.Errorf("uses %s, which Go's RE2 engine cannot run", problem)
	}
	if _, err := regexp.Compile(re2); err != nil {
		return "", fmt.Errorf("is not a regular expression Go can run: %w", err)
	}
	return re2, nil
}
