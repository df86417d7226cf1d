import type { z } from 'zod';
import { kafkaBrokerOptionsSchema } from '../shared/kafka-options.ts';

/** The kafkajs driver's options, each with the same meaning: switching drivers changes no setting. */
export const platformaticKafkaBrokerOptionsSchema = kafkaBrokerOptionsSchema;

export type PlatformaticKafkaBrokerOptions = z.input<typeof platformaticKafkaBrokerOptionsSchema>;
