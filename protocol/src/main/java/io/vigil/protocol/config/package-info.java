/** Loading the YAML configuration files of Vigil's programs, with environment overrides and field-naming errors. */
package io.vigil.protocol.config;
