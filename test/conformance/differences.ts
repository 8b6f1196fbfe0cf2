// What the conformance suites treat as data, or as nullable, when comparing with Nova's samples.

/** Object keys that are data (metadata, addresses …), not schema. */
export const FREE_KEYS = [
  '$.server.metadata', '$.servers[*].metadata', '$.server.addresses', '$.servers[*].addresses', '$.addresses', '$.metadata', '$.meta',
  '$.server.flavor.extra_specs', '$.servers[*].flavor.extra_specs', '$.flavor.extra_specs', '$.flavors[*].extra_specs', '$.extra_specs',
  '$.aggregate.metadata', '$.aggregates[*].metadata', '$.availabilityZoneInfo[*].hosts', '$.availabilityZoneInfo[*].hosts.*',
  '$.image.metadata', '$.images[*].metadata', '$.server.image.properties', '$.servers[*].image.properties',
  '$.server.scheduler_hints', '$.servers[*].scheduler_hints', '$.private', '$.default',
];

/** Values Nova itself returns as null when unset (the samples show them set). */
export const NULLABLE = [
  '$.server["OS-EXT-SRV-ATTR:user_data"]', '$.servers[*]["OS-EXT-SRV-ATTR:user_data"]', '$.server.description', '$.servers[*].description',
  '$.server.locked_reason', '$.servers[*].locked_reason', '$.server.trusted_image_certificates', '$.servers[*].trusted_image_certificates',
  '$.flavor.description', '$.flavors[*].description', '$.aggregate.availability_zone', '$.aggregates[*].availability_zone',
];

