// An example task: each input line is a plain record {"custom_id", "listing"}; the task builds the
// chat request, asks for a typed answer (the zod schema becomes the request's json_schema), and
// post-processes the validated answer in the worker thread.
//
//   batch-llm run examples/products.jsonl -o products-out.jsonl --task examples/extract-product.ts
//
// Each result line carries the post-processed value under "batch_llm"."value". In your own project,
// import defineTask from 'batch-llm/task' (one module, loaded by every thread) instead of '../src/task/task.js'.
import { z } from 'zod';
import { defineTask } from '../src/task/task.js';

const Product = z.object({
  name: z.string(),
  price_eur: z.number(),
  category: z.enum(['kitchen', 'outdoor', 'office', 'sport']),
});

export default defineTask({
  name: 'extract-product',
  buildRequest: (record) => ({
    messages: [
      { role: 'system', content: "Extract the product's name, price in EUR and category as JSON." },
      { role: 'user', content: String(record['listing']) },
    ],
    max_tokens: 64,
  }),
  schema: Product,
  schemaName: 'product',
  postProcess: (product) => ({
    ...product,
    price_band: product.price_eur < 20 ? 'budget' : product.price_eur < 60 ? 'mid' : 'premium',
  }),
});
