package ginkey

import (
	"slices"
	"strings"
)

// Edits of a decoded OpenAPI document (JSON objects as maps), which
// buildDoc and the self-service document make: operations removed by tag,
// security requirements and tags dropped, unused definitions pruned.

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch"}

// removeTagged deletes every operation carrying tag, and paths left empty.
func removeTagged(paths map[string]any, tag string) {
	for p, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			continue
		}
		left := 0
		for _, m := range httpMethods {
			op, ok := item[m].(map[string]any)
			if !ok {
				continue
			}
			if tags, _ := op["tags"].([]any); slices.Contains(tags, any(tag)) {
				delete(item, m)
			} else {
				left++
			}
		}
		if left == 0 {
			delete(paths, p)
		}
	}
}

// removeRequirement drops requirements naming scheme from the document-wide
// security list; operations naming it were removed with ginkey's operations.
func removeRequirement(app map[string]any, scheme string) {
	reqs, ok := app["security"].([]any)
	if !ok {
		return
	}
	app["security"] = slices.DeleteFunc(reqs, func(r any) bool {
		m, _ := r.(map[string]any)
		_, named := m[scheme]
		return named
	})
}

func removeTagDeclaration(app map[string]any, tag string) {
	tags, ok := app["tags"].([]any)
	if !ok {
		return
	}
	app["tags"] = slices.DeleteFunc(tags, func(t any) bool {
		m, _ := t.(map[string]any)
		return m["name"] == tag
	})
}

// pruneDefinitions deletes the definitions whose names start with prefix
// and that nothing left in the document refers to (ginkey.ErrorBody stays
// when an application's own operation answers with it).
func pruneDefinitions(app map[string]any, prefix string) {
	defs := objectAt(app, "definitions")
	const refPrefix = "#/definitions/"
	used := map[string]bool{}
	var queue []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if name, ok := strings.CutPrefix(ref, refPrefix); ok && !used[name] {
					used[name] = true
					queue = append(queue, name)
				}
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	for k, v := range app {
		if k != "definitions" {
			walk(v)
		}
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		walk(defs[name])
	}
	for name := range defs {
		if strings.HasPrefix(name, prefix) && !used[name] {
			delete(defs, name)
		}
	}
}

// objectAt returns m[key] as an object, creating it when absent or not an
// object.
func objectAt(m map[string]any, key string) map[string]any {
	if o, ok := m[key].(map[string]any); ok {
		return o
	}
	o := map[string]any{}
	m[key] = o
	return o
}

func cloneObject(v any) map[string]any {
	out := map[string]any{}
	if m, ok := v.(map[string]any); ok {
		for k, e := range m {
			out[k] = e
		}
	}
	return out
}
