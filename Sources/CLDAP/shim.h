#ifndef DRAWBRIDGE_CLDAP_SHIM_H
#define DRAWBRIDGE_CLDAP_SHIM_H

#include <lber.h>
#include <ldap.h>

// Macros that Swift cannot import: object-like casts and union members.

static inline const char *cldap_sasl_simple(void) { return LDAP_SASL_SIMPLE; }
static inline void *cldap_opt_on(void) { return LDAP_OPT_ON; }
static inline void *cldap_opt_off(void) { return LDAP_OPT_OFF; }

static inline void cldap_mod_set_bvalues(LDAPMod *mod, struct berval **values) {
    mod->mod_bvalues = values;
}

#endif
