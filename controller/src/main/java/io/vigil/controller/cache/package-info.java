/**
 * Lending the failover reserve as disk cache: how much memory each host lends its VMs as disk cache
 * ({@link io.vigil.controller.cache.CacheLending}), how much a host must take back before a VM starts on it, and the
 * cache figures the REST API shows per host and per VM ({@link io.vigil.controller.cache.HostCache}). Pure
 * arithmetic, no state: the HA core applies it to its records, the shell sends each agent its VMs' budgets.
 */
package io.vigil.controller.cache;
