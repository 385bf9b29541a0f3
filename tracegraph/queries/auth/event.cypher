// An audit entry about no stored node (a login attempt for an unknown user id).
//#include audit.guard
WITH h, [] AS audit_targets
//#include audit.append
