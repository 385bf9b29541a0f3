// A scheduled subscription's run: the record time it has reported up to and when it last ran.
//#include audit.guard
MATCH (s:Subscription {id: $id}) WHERE coalesce(s.retired, false) = false
SET s += $props
WITH h, [s] AS audit_targets
//#include audit.append
