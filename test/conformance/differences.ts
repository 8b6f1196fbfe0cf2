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
  // Diagnostics (2.48): Nova's schema allows null for what a driver does not report.
  '$.cpu_details[*].time', '$.cpu_details[*].utilisation', '$.memory_details.used', '$.hypervisor_os', '$.uptime',
  ...['errors_count', 'read_bytes', 'read_requests', 'write_bytes', 'write_requests'].map((k) => `$.disk_details[*].${k}`),
  ...['rx_drop', 'rx_errors', 'rx_octets', 'rx_packets', 'rx_rate', 'tx_drop', 'tx_errors', 'tx_octets', 'tx_packets', 'tx_rate'].map((k) => `$.nic_details[*].${k}`),
];

