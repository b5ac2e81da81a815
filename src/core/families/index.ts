import { albert } from './albert';
import { bert } from './bert';
import { deberta } from './deberta';
import { distilbert } from './distilbert';
import { electra } from './electra';
import { eurobert } from './eurobert';
import { modernbert } from './modernbert';
import { camembert, roberta, xlmRoberta } from './roberta';
import { FamilyDescriptor } from './types';

/** Every family Layer Lens can read. Order matters only for listing them to the user. */
export const FAMILIES: readonly FamilyDescriptor[] = [bert, roberta, xlmRoberta, camembert, albert, distilbert, electra, modernbert, eurobert, deberta];

export function familyForModelType(modelType: string): FamilyDescriptor | undefined {
  return FAMILIES.find((f) => f.modelTypes.includes(modelType));
}

export function supportedModelTypes(): string[] {
  return FAMILIES.flatMap((f) => f.modelTypes);
}
