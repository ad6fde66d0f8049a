import Type from 'typebox';
import { route } from '../route.ts';
import { Ok } from '../common.ts';

const SizeName = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9][a-z0-9-]{0,31}$' });
const Quantity = Type.String({ minLength: 1, maxLength: 32 });

export const SizeView = Type.Object({
  name: Type.String(),
  cpu: Type.String(),
  memory: Type.String(),
  disk: Type.String(),
  cpuMillis: Type.Integer(),
  memoryBytes: Type.Integer(),
  diskBytes: Type.Integer(),
  description: Type.String(),
});

export const sizeRoutes = {
  listSizes: route({
    method: 'GET',
    path: '/api/sizes',
    summary: 'T-shirt sizes apps can ask for',
    tag: 'apps',
    role: 'viewer',
    response: Type.Object({ sizes: Type.Array(SizeView) }),
  }),
  putSize: route({
    method: 'PUT',
    path: '/api/sizes/:name',
    summary: 'Create or change a size (deployed releases keep the resources they resolved)',
    tag: 'apps',
    role: 'admin',
    params: Type.Object({ name: SizeName }, { additionalProperties: false }),
    body: Type.Object(
      {
        cpu: Type.String({ ...Quantity, description: 'e.g. 250m or 1.5' }),
        memory: Type.String({ ...Quantity, description: 'e.g. 512Mi' }),
        disk: Type.String({ ...Quantity, description: 'e.g. 10Gi' }),
      },
      { additionalProperties: false },
    ),
    response: Type.Object({ size: SizeView }),
  }),
  deleteSize: route({
    method: 'DELETE',
    path: '/api/sizes/:name',
    summary: 'Delete a size no app uses',
    tag: 'apps',
    role: 'admin',
    params: Type.Object({ name: SizeName }, { additionalProperties: false }),
    response: Ok,
  }),
};
